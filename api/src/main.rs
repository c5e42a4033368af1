//! The `stepdown` command (DESIGN §3). Logs go to stderr; stdout carries only
//! a command's result (the SDL, the bootstrap JSON, the demo logins).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use stepdown::{
    Application, Config, auth::passwords::PasswordHasherPool, db::Database, error::ApiError,
};

#[derive(Parser)]
#[command(
    name = "stepdown",
    version,
    about = "Stepdown: supervised opioid tapering, monitoring, group support and therapy in one GraphQL API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Settings come from the environment.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create an organization and its first admin; prints their ids as JSON.
    Bootstrap {
        /// The organization's name.
        #[arg(long)]
        org: String,
        /// The first admin's email address.
        #[arg(long)]
        admin_email: String,
        /// Read the admin's password from stdin (one trailing newline stripped).
        #[arg(long, required = true)]
        admin_password_stdin: bool,
    },
    /// Create a demo organization with people and data; prints the logins.
    SeedDemo {
        /// Delete the demo organization first and build it anew (refused
        /// when STEPDOWN_ENV=production).
        #[arg(long)]
        reset: bool,
    },
    /// Print the GraphQL schema (SDL).
    ExportSchema,
    /// Build a trusted-documents file (for STEPDOWN_TRUSTED_DOCUMENTS) from
    /// a client's `.graphql` operation files; prints it as JSON.
    TrustedDocuments {
        /// `.graphql` files, or directories searched for them.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);

    if let Command::ExportSchema = command {
        // Needs no database and no secret: the SDL does not depend on them.
        print!("{}", stepdown::graphql::export_sdl());
        return ExitCode::SUCCESS;
    }
    if let Command::TrustedDocuments { paths } = &command {
        return match trusted_documents(paths) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("stepdown: {err:#}");
                ExitCode::FAILURE
            }
        };
    }

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("stepdown: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    stepdown::telemetry::init(config.log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("stepdown: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Bootstrap {
                org, admin_email, ..
            } => bootstrap(config, &org, &admin_email).await,
            Command::SeedDemo { reset } => seed_demo(config, reset).await,
            Command::ExportSchema | Command::TrustedDocuments { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Once, on stderr (the log goes there too: no second copy).
            eprintln!("stepdown: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.jwt_secret_generated {
        tracing::warn!(
            "STEPDOWN_JWT_SECRET is not set: using a random secret for this run \
             (sign-ins end when the process stops); set it in production"
        );
    }
    if config.production_on_default_sqlite() {
        tracing::warn!(
            "STEPDOWN_ENV=production on the default SQLite file ({}) in the working \
             directory: set DATABASE_URL to PostgreSQL (or at least a SQLite path on \
             backed-up storage)",
            stepdown::config::DEFAULT_DATABASE_URL
        );
    }
    tracing::info!(
        database = %stepdown::config::redact_url(&config.database_url),
        environment = ?config.environment,
        "starting"
    );
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Database::open_lazy(&config)?;
    db.migrate().await?;
    db.close().await;
    tracing::info!("migrations applied");
    Ok(())
}

/// Opens and migrates the database for a one-shot command.
async fn migrated(config: &Config) -> anyhow::Result<Database> {
    let db = Database::open_lazy(config)?;
    db.migrate().await?;
    Ok(db)
}

/// Turns a validation failure into the operator's one-line message.
fn command_error(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::BadInput {
            field: Some(field),
            message,
        } => {
            anyhow::anyhow!("{}: {message}", flag_of(&field))
        }
        ApiError::Internal(cause) | ApiError::Unavailable(Some(cause)) => cause,
        ApiError::Forbidden(why) => anyhow::anyhow!("{why}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The command-line flag a validated field came from.
fn flag_of(field: &str) -> String {
    match field {
        "admin-password" | "password" => {
            "--admin-password-stdin (the password read from stdin)".into()
        }
        "admin-email" | "email" => "--admin-email".into(),
        "org" | "name" => "--org".into(),
        other => format!("--{other}"),
    }
}

/// Reads `.graphql` files (directories searched recursively, in order) into
/// a trusted-documents manifest.
fn trusted_documents(paths: &[std::path::PathBuf]) -> anyhow::Result<String> {
    fn collect(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for entry in entries {
                if entry.is_dir()
                    || entry
                        .extension()
                        .is_some_and(|x| x == "graphql" || x == "gql")
                {
                    collect(&entry, out)?;
                }
            }
        } else {
            out.push(path.to_owned());
        }
        Ok(())
    }
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    let mut documents = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        documents.push((file.display().to_string(), text));
    }
    let manifest =
        stepdown::graphql::persisted::manifest(&documents).map_err(anyhow::Error::msg)?;
    if manifest.is_empty() {
        anyhow::bail!("no GraphQL documents found in the given paths");
    }
    eprintln!(
        "stepdown: {} documents from {} files",
        manifest.len(),
        files.len()
    );
    Ok(serde_json::to_string_pretty(&manifest)?)
}

async fn bootstrap(config: Config, org: &str, admin_email: &str) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| anyhow::anyhow!("cannot read the password from stdin: {e}"))?;
    let password = password
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&password);
    let db = migrated(&config).await?;
    let result = stepdown::accounts::bootstrap::bootstrap(
        db.conn().map_err(command_error)?,
        &PasswordHasherPool::default(),
        org,
        admin_email,
        password,
    )
    .await
    .map_err(command_error)?;
    db.close().await;
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}

async fn seed_demo(config: Config, reset: bool) -> anyhow::Result<()> {
    if config.is_production() {
        // Before touching the database (the library refuses too).
        let ctx = stepdown::AppContext::new(config.clone(), Database::open_lazy(&config)?);
        return stepdown::seed_demo(&ctx, reset)
            .await
            .map(|_| ())
            .map_err(command_error);
    }
    let db = migrated(&config).await?;
    let ctx = stepdown::AppContext::new(config, db);
    let demo = stepdown::seed_demo(&ctx, reset)
        .await
        .map_err(command_error)?;
    ctx.db.close().await;
    println!("{}", serde_json::to_string_pretty(&demo)?);
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; the server then drains in-flight requests.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}
