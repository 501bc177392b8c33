//! The Portcullis server binary.
//!
//! `server` (or `server serve`) runs the web app and JSON API;
//! `server create-user --username NAME [--role admin]` creates a user (or resets
//! their password) with the password read from standard input.

use std::process::ExitCode;

use server::{cli, leptos_options};
use tracing_subscriber::{fmt, EnvFilter};

#[tokio::main]
async fn main() -> ExitCode {
    fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve().await,
        Some("create-user") => cli::create_user(&args[1..]).await,
        Some("-h" | "--help" | "help") => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{}", cli::USAGE)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Loads configuration from the environment, binds and serves until interrupted.
async fn serve() -> Result<(), String> {
    app::server::platform::config::load_dotenv().map_err(|e| e.to_string())?;
    let bound = server::bind(leptos_options()?, |key| std::env::var(key).ok()).await?;
    let local = bound.local_addr().map_err(|e| e.to_string())?;
    // Scripts (and the multi-process tests) read this line to learn the port
    // when LEPTOS_SITE_ADDR ends in :0.
    println!("listening on http://{local}");
    tracing::info!(%local, "listening");
    server::serve(bound, stop_signal()).await
}

/// SIGINT (Ctrl-C) or SIGTERM (what an orchestrator sends for a rolling restart).
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot watch for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
