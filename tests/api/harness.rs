//! The test harness: the real application on a random port over a fresh
//! database, and clients that speak GraphQL over HTTP and WebSocket.
//!
//! SQLite by default (a new database file per test, removed afterwards);
//! with `TEST_DATABASE_URL` set, a new PostgreSQL database per test, created,
//! migrated by the app, and dropped afterwards.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use stepdown::{Application, Config};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};
use uuid::Uuid;

/// The JWT secret every test server uses, so tests can mint tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret!";

/// A database made for one test and removed when the test ends.
pub enum TestDb {
    Sqlite {
        path: std::path::PathBuf,
    },
    Postgres {
        admin_url: String,
        name: String,
        /// Another test server's database (a replica): left in place.
        shared: bool,
    },
}

impl TestDb {
    /// A fresh, empty database (not yet migrated).
    pub async fn create() -> Self {
        let db = Self::named(&format!("stepdown_test_{}", Uuid::now_v7().simple()));
        if let TestDb::Postgres {
            admin_url, name, ..
        } = &db
        {
            let mut admin = PgConnection::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            crate::harness::exec(&mut admin, format!(r#"CREATE DATABASE "{name}""#))
                .await
                .expect("create test database");
        }
        db
    }

    /// A database name that does not exist yet (PostgreSQL) or a new file.
    pub fn named(name: &str) -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => TestDb::Postgres {
                admin_url,
                name: name.to_owned(),
                shared: false,
            },
            _ => TestDb::Sqlite {
                path: std::env::temp_dir().join(format!("{name}.db")),
            },
        }
    }

    /// The same database for another server of the test (a replica): on
    /// PostgreSQL left in place when that server stops; a SQLite file is
    /// removed by whichever handle drops first, after the servers stop.
    pub fn shared(&self) -> Self {
        match self {
            TestDb::Sqlite { path } => TestDb::Sqlite { path: path.clone() },
            TestDb::Postgres {
                admin_url, name, ..
            } => TestDb::Postgres {
                admin_url: admin_url.clone(),
                name: name.clone(),
                shared: true,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            TestDb::Postgres {
                admin_url, name, ..
            } => with_database(admin_url, name),
        }
    }

    /// An administrative connection (PostgreSQL only).
    pub async fn admin(&self) -> PgConnection {
        match self {
            TestDb::Postgres { admin_url, .. } => PgConnection::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL"),
            TestDb::Sqlite { .. } => panic!("admin connections exist only on PostgreSQL"),
        }
    }

    pub fn name(&self) -> String {
        match self {
            TestDb::Sqlite { path } => path.display().to_string(),
            TestDb::Postgres { name, .. } => name.clone(),
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { shared: true, .. } => {}
            TestDb::Postgres {
                admin_url, name, ..
            } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop cannot await: use a runtime of its own on a thread.
                let _ = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    runtime.block_on(async move {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let _ = crate::harness::exec(
                                &mut admin,
                                format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
                            )
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDb,
    seed: tokio::sync::OnceCell<sea_orm::DatabaseConnection>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Settings for a test server beyond the defaults.
#[derive(Default)]
pub struct Options {
    pub vars: Vec<(&'static str, String)>,
    /// Use this database instead of a fresh one.
    pub db: Option<TestDb>,
    /// Return as soon as the server listens, not when it is ready.
    pub skip_ready_wait: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let db = match options.db {
        Some(db) => db,
        None => TestDb::create().await,
    };
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url()),
        ("STEPDOWN_BIND".into(), "127.0.0.1:0".into()),
        ("STEPDOWN_JWT_SECRET".into(), TEST_JWT_SECRET.into()),
        ("STEPDOWN_DB_MAX_CONNECTIONS".into(), "5".into()),
    ]);
    for (key, value) in options.vars {
        vars.insert(key.to_owned(), value);
    }
    let config = Config::from_vars(&vars).expect("test configuration");
    let app = Application::build(config).await.expect("build app");
    let addr = app.local_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = rx.await;
            })
            .await;
    });
    let test_app = TestApp {
        addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
        db,
        seed: tokio::sync::OnceCell::new(),
        shutdown: Some(tx),
        server: Some(server),
    };
    if !options.skip_ready_wait {
        test_app.wait_ready(Duration::from_secs(30)).await;
    }
    test_app
}

/// A GraphQL response as the client saw it.
#[derive(Debug)]
pub struct GqlReply {
    pub status: u16,
    pub body: Value,
}

impl GqlReply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The first error's `extensions.code`, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// Asserts there were no errors and returns `data`.
    pub fn ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        self.data()
    }
}

impl TestApp {
    /// A second server over this one's database, as another replica
    /// behind a load balancer would be (PostgreSQL only).
    pub async fn replica(&self) -> TestApp {
        let TestDb::Postgres {
            admin_url, name, ..
        } = &self.db
        else {
            panic!("replicas share a PostgreSQL database");
        };
        spawn_app_with(Options {
            db: Some(TestDb::Postgres {
                admin_url: admin_url.clone(),
                name: name.clone(),
                shared: true,
            }),
            ..Default::default()
        })
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn wait_ready(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Ok(r) = self.client.get(self.url("/readyz")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "server not ready within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// POSTs one GraphQL request (`application/json`), optionally signed in.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> GqlReply {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("graphql request");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        GqlReply { status, body }
    }

    /// Mints an access token with the test secret (for sessions that may
    /// not exist: the server must still check them).
    pub fn mint_token(&self, user: Uuid, session: Uuid) -> String {
        stepdown::auth::TokenService::new(TEST_JWT_SECRET.as_bytes())
            .issue_access(user, session, chrono::Utc::now())
            .expect("mint token")
            .0
    }

    /// Opens a `graphql-transport-ws` connection and completes the
    /// handshake with `payload` as `connection_init`.
    pub async fn ws_connect(&self, payload: Value) -> Result<WsClient, String> {
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .expect("ws request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| e.to_string())?;
        socket
            .send(tungstenite::Message::text(
                json!({ "type": "connection_init", "payload": payload }).to_string(),
            ))
            .await
            .map_err(|e| e.to_string())?;
        let mut client = WsClient { socket };
        match client.next_message().await {
            Some(WsEvent::Message(msg)) if msg["type"] == "connection_ack" => Ok(client),
            Some(WsEvent::Message(msg)) => Err(format!("unexpected message {msg}")),
            Some(WsEvent::Closed(code)) => Err(format!("closed with {code}")),
            None => Err("connection ended".into()),
        }
    }

    /// Stops the server, draining in-flight requests.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

#[derive(Debug)]
pub enum WsEvent {
    Message(Value),
    Closed(u16),
}

pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.socket
            .send(tungstenite::Message::text(
                json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
                    .to_string(),
            ))
            .await
            .expect("send subscribe");
    }

    /// The next protocol message (pings answered), or the close code.
    pub async fn next_message(&mut self) -> Option<WsEvent> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(15), self.socket.next())
                .await
                .ok()??;
            match frame.ok()? {
                tungstenite::Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).ok()?;
                    if value["type"] == "ping" {
                        let _ = self
                            .socket
                            .send(tungstenite::Message::text(r#"{"type":"pong"}"#))
                            .await;
                        continue;
                    }
                    return Some(WsEvent::Message(value));
                }
                tungstenite::Message::Close(frame) => {
                    return Some(WsEvent::Closed(frame.map_or(1005, |f| f.code.into())));
                }
                _ => continue,
            }
        }
    }
}

/// Runs one administrative statement built at run time (test-owned names).
pub async fn exec(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A person in a test world, signed in (a session row and a token).
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub email: String,
    pub token: String,
}

impl Person {
    pub fn patient(&self) -> Uuid {
        self.patient_id.expect("a patient")
    }
}

/// The password every world person has (hashed once per process).
pub const WORLD_PASSWORD: &str = "world-password-for-tests";

static WORLD_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn world_hash() -> String {
    WORLD_HASH
        .get_or_init(|| {
            use argon2::PasswordHasher as _;
            argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(19 * 1024, 2, 1, None).unwrap(),
            )
            .hash_password(WORLD_PASSWORD.as_bytes())
            .unwrap()
            .to_string()
        })
        .clone()
}

impl TestApp {
    /// A SeaORM connection to the test's database, for setting up worlds
    /// (the server itself is only ever spoken to over HTTP).
    pub async fn seed_db(&self) -> &sea_orm::DatabaseConnection {
        self.seed
            .get_or_init(|| async {
                let mut options = sea_orm::ConnectOptions::new(self.db.url());
                options.max_connections(2).sqlx_logging(false);
                sea_orm::Database::connect(options)
                    .await
                    .expect("seed connection")
            })
            .await
    }

    pub async fn new_organization(&self, name: &str) -> Uuid {
        use sea_orm::{ActiveModelTrait, Set};
        let db = self.seed_db().await;
        entity::organizations::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.into()),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(db)
        .await
        .unwrap()
        .id
    }

    /// A user with `roles` in `org`, with a session and an access token.
    pub async fn new_person(&self, org: Uuid, name: &str, roles: &[&str]) -> Person {
        use sea_orm::{ActiveModelTrait, Set};
        let db = self.seed_db().await;
        let now = chrono::Utc::now();
        let id = Uuid::now_v7();
        let email = format!(
            "{}-{}@example.org",
            name.to_lowercase().replace(' ', "."),
            id.simple()
        );
        entity::users::ActiveModel {
            id: Set(id),
            organization_id: Set(org),
            email: Set(email.clone()),
            password_hash: Set(world_hash()),
            display_name: Set(name.into()),
            timezone: Set("America/Chicago".into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .unwrap();
        let mut patient_id = None;
        for role in roles {
            entity::memberships::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                user_id: Set(id),
                role: Set((*role).into()),
                created_at: Set(now),
            }
            .insert(db)
            .await
            .unwrap();
            if *role == "PATIENT" {
                let patient = entity::patients::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(org),
                    user_id: Set(id),
                    created_at: Set(now),
                }
                .insert(db)
                .await
                .unwrap();
                patient_id = Some(patient.id);
            }
        }
        let session = entity::sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(id),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(1)),
            revoked_at: Set(None),
            revoked_reason: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
        Person {
            user_id: id,
            patient_id,
            email,
            token: self.mint_token(id, session.id),
        }
    }

    pub async fn put_on_care_team(&self, patient: &Person, clinician: &Person) {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let db = self.seed_db().await;
        let patient_row = entity::patients::Entity::find_by_id(patient.patient())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        entity::care_team_members::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient_row.organization_id),
            patient_id: Set(patient.patient()),
            clinician_user_id: Set(clinician.user_id),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(db)
        .await
        .unwrap();
    }

    /// Links a supporter to the patient, as accepting the patient's
    /// invitation does (what they may see still takes consent).
    pub async fn link_supporter(&self, patient: &Person, supporter: &Person) {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let db = self.seed_db().await;
        let patient_row = entity::patients::Entity::find_by_id(patient.patient())
            .one(db)
            .await
            .unwrap()
            .unwrap();
        entity::supporter_links::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(patient_row.organization_id),
            patient_id: Set(patient.patient()),
            supporter_user_id: Set(supporter.user_id),
            created_at: Set(chrono::Utc::now()),
        }
        .insert(db)
        .await
        .unwrap();
    }

    /// The patient grants `grantee` a consent over HTTP; returns its id.
    pub async fn grant_consent(
        &self,
        patient: &Person,
        grantee: &Person,
        categories: &[&str],
    ) -> Uuid {
        let reply = self
            .graphql(
                "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { consent { id } } }",
                json!({ "input": {
                    "granteeUserId": grantee.user_id,
                    "categories": categories,
                    "purpose": "test",
                } }),
                Some(&patient.token),
            )
            .await;
        reply.ok()["grantConsent"]["consent"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// The standard cast around one patient (see `World`).
    pub async fn world(&self) -> World {
        let org = self.new_organization("Clinic").await;
        let other_org = self.new_organization("Other clinic").await;
        let patient = self.new_person(org, "Pat Patient", &["PATIENT"]).await;
        let other_patient = self.new_person(org, "Olive Other", &["PATIENT"]).await;
        let clinician = self.new_person(org, "Dr Care", &["CLINICIAN"]).await;
        let other_clinician = self.new_person(org, "Dr Else", &["CLINICIAN"]).await;
        let facilitator = self
            .new_person(org, "Fay Facilitator", &["FACILITATOR"])
            .await;
        let consented_facilitator = self
            .new_person(org, "Finn Facilitator", &["FACILITATOR"])
            .await;
        let supporter = self.new_person(org, "Sue Supporter", &["SUPPORTER"]).await;
        let admin = self.new_person(org, "Ada Admin", &["ADMIN"]).await;
        let other_org_admin = self.new_person(other_org, "Otto Admin", &["ADMIN"]).await;
        self.put_on_care_team(&patient, &clinician).await;
        self.grant_consent(&patient, &consented_facilitator, &["GROUP_ACTIVITY"])
            .await;
        self.grant_consent(&patient, &supporter, &["TAPER", "CHECK_INS"])
            .await;
        World {
            org,
            patient,
            other_patient,
            clinician,
            other_clinician,
            facilitator,
            consented_facilitator,
            supporter,
            admin,
            other_org_admin,
        }
    }
}

/// One patient and everyone around them: the care-team clinician, another
/// clinician, a facilitator with the patient's `GROUP_ACTIVITY` consent and
/// one without, a supporter with `TAPER` + `CHECK_INS` consent, an admin,
/// another patient, and another organization's admin.
pub struct World {
    #[allow(dead_code)] // for later features' set-ups
    pub org: Uuid,
    pub patient: Person,
    pub other_patient: Person,
    pub clinician: Person,
    pub other_clinician: Person,
    pub facilitator: Person,
    pub consented_facilitator: Person,
    pub supporter: Person,
    pub admin: Person,
    pub other_org_admin: Person,
}

impl World {
    /// Every caller kind, named for matrix tables.
    pub fn callers(&self) -> Vec<(&'static str, &Person)> {
        vec![
            ("patient", &self.patient),
            ("other patient", &self.other_patient),
            ("care-team clinician", &self.clinician),
            ("other clinician", &self.other_clinician),
            ("facilitator without consent", &self.facilitator),
            ("facilitator with consent", &self.consented_facilitator),
            ("supporter with consent", &self.supporter),
            ("admin", &self.admin),
            ("other organization's admin", &self.other_org_admin),
        ]
    }
}
