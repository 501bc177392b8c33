//! Password hashing with argon2id, always off the async runtime, on a bounded
//! pool: at most `hash_concurrency` hashes run at once and at most `hash_queue`
//! wait, so a sign-in flood queues (then gets 503) instead of starving the rest.
//!
//! The hashes run on a fixed set of `hash_concurrency` threads of our own, not
//! on tokio's blocking pool, and each thread allocates its argon2 memory once
//! and reuses it for every hash. Letting argon2 allocate per hash (its default)
//! leaves the freed blocks with the allocator, per thread: spread over tokio's
//! blocking threads that grew the process to 540 MiB in the benchmark, and even
//! on two threads glibc's growing mmap threshold kept 236 MiB. Reused memory
//! bounds it to `hash_concurrency` × `m_cost`, allocated once.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    mpsc, Arc, Mutex,
};

use argon2::{password_hash::PasswordHash, Algorithm, Argon2, Params, Version};

use super::argon::{hash_with, random_password, verify_with, Memory};
use secrecy::{ExposeSecret, SecretString};

use crate::error::AuthError;
use crate::server::platform::config::Argon2Params;

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    workers: mpsc::Sender<Job>,
    /// Hashes running plus hashes waiting ([`Ticket`]s held).
    load: Arc<AtomicUsize>,
    /// Hashes running plus hashes waiting, beyond which callers get 503.
    capacity: usize,
    /// A real hash of a random password, verified against when the user does not
    /// exist so that "no such user" costs the same time as "wrong password".
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// Builds the hasher and its dummy hash.
    ///
    /// # Errors
    /// Fails when the argon2 parameters are out of range.
    pub fn new(
        params: Argon2Params,
        concurrency: usize,
        max_waiting: usize,
    ) -> Result<Self, String> {
        let params = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, None)
            .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = hash_with(&argon, &random_password(), &mut Memory::default())
            .map_err(|()| "argon2 failed".to_owned())?;
        Ok(Self {
            argon,
            workers: spawn_workers(concurrency)?,
            load: Arc::new(AtomicUsize::new(0)),
            capacity: concurrency + max_waiting,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a new password into a PHC string.
    ///
    /// # Errors
    /// [`AuthError::Busy`] when too many hashes are queued; [`AuthError::Internal`] if argon2 fails.
    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let argon = self.argon.clone();
        self.run(move |memory| {
            hash_with(&argon, password.expose_secret(), memory).map_err(|()| AuthError::Internal)
        })
        .await?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when `stored` is `None`
    /// (unknown user); in that case the answer is always `false`.
    ///
    /// # Errors
    /// [`AuthError::Busy`] when too many hashes are queued.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, AuthError> {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .run(move |memory| verify_with(&phc, password.expose_secret(), memory))
            .await?;
        Ok(known && ok)
    }

    /// True when `stored` was made with other parameters than today's (or is
    /// unreadable), so the next successful sign-in should hash it afresh.
    #[must_use]
    pub fn needs_rehash(&self, stored: &str) -> bool {
        PasswordHash::new(stored).map_or(true, |parsed| {
            parsed.algorithm != Algorithm::Argon2id.ident()
                || Params::try_from(&parsed).map_or(true, |p| {
                    let now = self.argon.params();
                    (p.m_cost(), p.t_cost(), p.p_cost())
                        != (now.m_cost(), now.t_cost(), now.p_cost())
                })
        })
    }

    /// Queues `work` for a hashing thread. The place it takes in the queue
    /// (a [`Ticket`]) travels with the job and is given back by the thread
    /// when the job is done, not by the caller: a caller that goes away (its
    /// client hung up) cannot free a place while its job still waits. A job
    /// whose caller has gone is skipped without hashing, so a flood of
    /// abandoned sign-ins leaves no backlog in front of real ones.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let ticket = Ticket::take(&self.load, self.capacity).ok_or(AuthError::Busy)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.workers
            .send(Box::new(move |memory: &mut Memory| {
                if tx.is_closed() {
                    return; // the ticket goes with the skipped job
                }
                let out = work(memory);
                // The place is given back before the caller wakes, so a
                // caller that counts the queue sees it without this job.
                drop(ticket);
                let _ = tx.send(out);
            }))
            .map_err(|_| AuthError::Internal)?;
        rx.await.map_err(|_| AuthError::Internal)
    }

    /// Hashes waiting or running now.
    #[must_use]
    pub fn load(&self) -> usize {
        self.load.load(Ordering::SeqCst)
    }
}

/// One place in the hash queue, held from the moment a job is queued until
/// a hashing thread has finished (or skipped) it.
struct Ticket(Arc<AtomicUsize>);

impl Ticket {
    fn take(load: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        load.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < capacity).then_some(n + 1)
        })
        .ok()
        .map(|_| Self(Arc::clone(load)))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// Starts `count` hashing threads that take jobs from one queue.
fn spawn_workers(count: usize) -> Result<mpsc::Sender<Job>, String> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..count.max(1) {
        let rx = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                let mut memory = Memory::default();
                loop {
                    let job = match rx.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking hash must not take its thread with it
                        // (the pool would shrink for good); its caller gets
                        // a closed channel, answered as 500.
                        Ok(job) => {
                            let run = std::panic::AssertUnwindSafe(|| job(&mut memory));
                            if std::panic::catch_unwind(run).is_err() {
                                tracing::error!("a password hash panicked");
                            }
                        }
                        // Every sender is gone: the hasher was dropped.
                        Err(_) => return,
                    }
                }
            })
            .map_err(|e| format!("cannot start a hashing thread: {e}"))?;
    }
    Ok(tx)
}

#[cfg(test)]
mod tests;
