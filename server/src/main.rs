//! The Portcullis server binary.
//!
//! `server` (or `server serve`) runs the web app and JSON API;
//! `server create-user --username NAME [--role admin]` creates a user (or resets
//! their password) with the password read from standard input.

mod admin_api;
mod api;
mod cli;
mod routes;

use std::{net::SocketAddr, process::ExitCode};

use leptos::config::{get_configuration, LeptosOptions};
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

/// Leptos options: from the `LEPTOS_*` variables cargo-leptos sets, or from
/// `Leptos.toml` (overridable by the same variables) when run on its own.
async fn leptos_options() -> Result<LeptosOptions, String> {
    let file = std::env::var("LEPTOS_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
    let from_file =
        std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() && std::path::Path::new(&file).exists();
    let conf = get_configuration(from_file.then_some(file.as_str()))
        .map_err(|e| format!("Leptos configuration ({file}): {e}"))?;
    Ok(conf.leptos_options)
}

/// Loads configuration, builds the state and serves until interrupted.
async fn serve() -> Result<(), String> {
    let mut leptos_options = leptos_options().await?;
    let addr = leptos_options.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    // With port 0 the real port is known only now; the default PUBLIC_URL
    // (and with it the CSRF origin and the token issuer) must use it.
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    leptos_options.site_addr = local;
    let config = app::server::config::Config::from_env(local).map_err(|e| e.to_string())?;
    let state = app::server::build_state(config, leptos_options).await?;
    let router = routes::router(state.clone());
    routes::spawn_maintenance(state);
    // Tests and scripts read this line to learn the port when LEPTOS_SITE_ADDR ends in :0.
    println!("listening on http://{local}");
    tracing::info!(%local, "listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(|e| format!("server error: {e}"))
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
