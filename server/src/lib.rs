//! The Portcullis server as a library: the router, the JSON API, the command
//! line and [`serve`]. `main.rs` is a thin shell over it, and the integration
//! tests start the same app in process (`tests/common`).

pub mod api;
pub mod cli;
pub mod maintenance;
pub mod routes;

use std::{future::Future, net::SocketAddr};

use app::server::{platform::config::Config, AppState};
use leptos::config::{get_configuration, LeptosOptions};
use tokio::net::TcpListener;

/// Leptos options: from the `LEPTOS_*` variables cargo-leptos sets, or from
/// `Leptos.toml` (overridable by the same variables) when run on its own.
///
/// # Errors
/// A readable message when the file cannot be read.
pub fn leptos_options() -> Result<LeptosOptions, String> {
    let file = std::env::var("LEPTOS_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
    let from_file =
        std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() && std::path::Path::new(&file).exists();
    let conf = get_configuration(from_file.then_some(file.as_str()))
        .map_err(|e| format!("Leptos configuration ({file}): {e}"))?;
    Ok(conf.leptos_options)
}

/// An app ready to serve: the bound listener and the state built for it.
pub struct Bound {
    pub listener: TcpListener,
    pub state: AppState,
}

impl Bound {
    /// The address it listens on (the real port when asked for port 0).
    ///
    /// # Errors
    /// The socket's own error.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// Binds `leptos_options.site_addr`, then reads the configuration through
/// `lookup` (the environment, or a test's own map) and builds the state. The
/// port is bound first because with port 0 the real one is known only then,
/// and the default `PUBLIC_URL` (so the CSRF origin and the token issuer) uses it.
///
/// # Errors
/// A readable message naming what could not be set up.
pub async fn bind(
    mut leptos_options: LeptosOptions,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Bound, String> {
    let addr = leptos_options.site_addr;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    leptos_options.site_addr = local;
    let config = Config::from_lookup(local, lookup).map_err(|e| e.to_string())?;
    let state = app::server::build_state(config, leptos_options).await?;
    Ok(Bound { listener, state })
}

/// Serves `bound` until `shutdown` completes, with the background upkeep
/// running. Then it drains: the listener closes at once (a proxy sends new
/// requests to another instance), `/readyz` says `draining`, and requests in
/// flight get up to `SHUTDOWN_DRAIN` to finish before this returns.
///
/// # Errors
/// The server's own error, as text.
pub async fn serve(
    bound: Bound,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let router = routes::router(bound.state.clone());
    maintenance::spawn_maintenance(bound.state.clone());
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let state = bound.state.clone();
    let signal = async move {
        shutdown.await;
        state
            .draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!("shutting down: draining requests in flight");
        let _ = stopping.send(true);
    };
    let drain = bound.state.config.shutdown_drain;
    let server = axum::serve(
        bound.listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    tokio::select! {
        served = server => served.map_err(|e| format!("server error: {e}")),
        () = async {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(drain).await;
        } => {
            tracing::warn!(?drain, "drain time over: exiting with requests still in flight");
            Ok(())
        }
    }
}
