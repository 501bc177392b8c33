//! Background upkeep: follow the change feed (revocations and role changes
//! made by any instance), keep the clock calibrated against the database,
//! forget what no live token can need, and (hourly) delete sessions that
//! ended longer than `SESSION_RETENTION` ago.

use std::time::Duration;

use app::server::{
    revocation_window,
    sessions::{feed, retention},
    AppState,
};

/// Upkeep ticks (of a minute) between purges of ended sessions.
const PURGE_EVERY: u32 = 60;

/// Starts the upkeep tasks; they run until the process ends.
pub fn spawn_maintenance(state: AppState) {
    tokio::spawn(feed::follow(state.clone()));
    tokio::spawn(async move {
        let window = revocation_window(&state.config);
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; start-up has just done all of this.
        tick.tick().await;
        let mut ticks = 0u32;
        loop {
            tick.tick().await;
            // The first purge a minute after start, then hourly: instances
            // started together purge together, which is harmless.
            if ticks.is_multiple_of(PURGE_EVERY) {
                match retention::purge(&state).await {
                    Ok(purged) => tracing::info!(?purged, "ended sessions purged"),
                    Err(err) => tracing::warn!(%err, "could not purge ended sessions"),
                }
            }
            ticks = ticks.wrapping_add(1);
            if let Err(err) = state.clock.calibrate(&state.db).await {
                tracing::warn!(%err, "clock calibration failed; keeping the last offset");
            }
            state.revoked.prune(window);
            state.standing.prune(window);
            state.limiter.prune().await;
            if let Err(err) = feed::prune(&state.db).await {
                tracing::warn!(%err, "could not prune the change feed");
            }
        }
    });
}
