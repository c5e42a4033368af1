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
    SeedDemo,
    /// Print the GraphQL schema (SDL).
    ExportSchema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);

    if let Command::ExportSchema = command {
        // Needs no database and no secret: the SDL does not depend on them.
        print!("{}", stepdown::graphql::export_sdl());
        return ExitCode::SUCCESS;
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
            Command::SeedDemo => seed_demo(config).await,
            Command::ExportSchema => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "stepdown failed");
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
            anyhow::anyhow!("--{field}: {message}")
        }
        ApiError::Internal(cause) | ApiError::Unavailable(Some(cause)) => cause,
        other => anyhow::anyhow!("{other}"),
    }
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

async fn seed_demo(config: Config) -> anyhow::Result<()> {
    if config.is_production() {
        anyhow::bail!("seed-demo refuses to run when STEPDOWN_ENV=production");
    }
    let db = migrated(&config).await?;
    let demo = stepdown::demo::seed_demo(
        db.conn().map_err(command_error)?,
        &PasswordHasherPool::default(),
    )
    .await
    .map_err(command_error)?;
    db.close().await;
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
