//! Background upkeep: learn of revocations and role changes made by other
//! instances, and forget what no live token can need.

use std::time::Duration;

use app::server::{revocation_window, AppState};

/// Background upkeep: learn of revocations and role changes made by other
/// instances (a short poll of two indexed columns, so requests never query),
/// and forget what no live token can need.
pub fn spawn_maintenance(state: AppState) {
    let poll = state.config.sync_interval;
    let sync = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut since = chrono::Utc::now();
        loop {
            tick.tick().await;
            // Overlap the windows by a few seconds: clocks of instances differ a little,
            // and recording a change twice is harmless.
            let from = since - chrono::Duration::seconds(5);
            let now = chrono::Utc::now();
            let revoked = sync.revoked.load_since(&sync.db, from).await;
            let standing = sync.standing.load_since(&sync.db, from).await;
            if revoked.is_ok() && standing.is_ok() {
                since = now;
            }
        }
    });
    tokio::spawn(async move {
        let window = revocation_window(&state.config);
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.revoked.prune(window);
            state.standing.prune(window);
            state.limiter.prune();
        }
    });
}
