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
                let _ticket = ticket;
                if !tx.is_closed() {
                    let _ = tx.send(work(memory));
                }
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
                        Ok(job) => job(&mut memory),
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
mod tests {
    use super::*;
    use argon2::password_hash::SaltString;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            Argon2Params {
                m_cost_kib: 256,
                t_cost: 1,
                p_cost: 1,
            },
            2,
            8,
        )
        .expect("params")
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = cheap();
        let phc = h
            .hash(SecretString::from("correct horse"))
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
        assert!(h
            .verify(SecretString::from("correct horse"), Some(phc.clone()))
            .await
            .expect("verify"));
        assert!(!h
            .verify(SecretString::from("wrong horse"), Some(phc))
            .await
            .expect("verify"));
    }

    /// Polls `check` until it holds, for at most 5 s.
    async fn eventually(check: impl Fn() -> bool) -> bool {
        for _ in 0..1_000 {
            if check() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        false
    }

    /// Holds the only hashing thread until the returned sender is dropped.
    fn hold_the_thread(
        h: &PasswordHasher,
    ) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let h = h.clone();
        let job = tokio::spawn(async move {
            let _ = h
                .run(move |_| {
                    let _ = held.recv();
                })
                .await;
        });
        (release, job)
    }

    /// Issue #18: callers that went away must not free their place while
    /// their job still waits, and their jobs must not be hashed.
    #[tokio::test]
    async fn abandoned_jobs_keep_their_place_until_skipped_and_are_never_hashed() {
        let h = PasswordHasher::new(
            Argon2Params {
                m_cost_kib: 256,
                t_cost: 1,
                p_cost: 1,
            },
            1,
            8,
        )
        .expect("params");
        let (release, holder) = hold_the_thread(&h);
        assert!(eventually(|| h.load() == 1).await);
        let hashed = Arc::new(AtomicUsize::new(0));
        let mut abandoned = Vec::new();
        for _ in 0..8 {
            let (h, hashed) = (h.clone(), Arc::clone(&hashed));
            abandoned.push(tokio::spawn(async move {
                let _ = h.run(move |_| hashed.fetch_add(1, Ordering::SeqCst)).await;
            }));
        }
        assert!(eventually(|| h.load() == 9).await);
        for job in &abandoned {
            job.abort();
        }
        for job in abandoned {
            let _ = job.await;
        }
        // Their callers are gone, but their jobs still wait: the queue is full.
        assert_eq!(h.load(), 9);
        assert_eq!(
            h.verify("x".to_owned().into(), None).await,
            Err(AuthError::Busy),
            "an abandoned job gave its place back before it left the queue"
        );
        drop(release);
        holder.await.expect("holder");
        // The abandoned jobs leave the queue, skipped, and a real one runs.
        assert!(eventually(|| h.load() == 0).await, "load {}", h.load());
        let phc = h
            .hash("correct horse".to_owned().into())
            .await
            .expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert_eq!(
            hashed.load(Ordering::SeqCst),
            0,
            "an abandoned job was hashed"
        );
        assert_eq!(h.load(), 0);
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies_even_with_the_dummy_password() {
        let h = cheap();
        assert!(!h
            .verify(SecretString::from("anything"), None)
            .await
            .expect("verify"));
    }

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(256, 1, 1, None).expect("params"),
        );
        let mut memory = Memory::default();
        // Ours verifies with the argon2 crate's own verifier...
        let ours = hash_with(&argon, "correct horse", &mut memory).expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(argon.verify_password(b"correct horse", &parsed).is_ok());
        assert!(argon.verify_password(b"correct horsf", &parsed).is_err());
        // ...and a hash the crate made (as stored before) verifies with ours,
        // even with other parameters than today's.
        let salt = SaltString::encode_b64(b"sixteen byte slt").expect("salt");
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(512, 2, 1, None).expect("params"),
        );
        let theirs = older
            .hash_password(b"battery staple", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_with(&theirs, "battery staple", &mut memory));
        assert!(!verify_with(&theirs, "battery stapl", &mut memory));
        assert!(!verify_with(
            "not a phc string",
            "battery staple",
            &mut memory
        ));
    }

    #[tokio::test]
    async fn hashes_made_with_other_parameters_need_a_rehash() {
        let h = cheap();
        let today = h
            .hash("correct horse".to_owned().into())
            .await
            .expect("hash");
        assert!(!h.needs_rehash(&today));
        let older = PasswordHasher::new(
            Argon2Params {
                m_cost_kib: 512,
                t_cost: 2,
                p_cost: 1,
            },
            1,
            1,
        )
        .expect("params");
        let old = older
            .hash("correct horse".to_owned().into())
            .await
            .expect("hash");
        assert!(h.needs_rehash(&old));
        assert!(h.needs_rehash("garbage"));
        assert!(h
            .verify("correct horse".to_owned().into(), Some(old))
            .await
            .expect("verify"));
    }

    #[test]
    fn the_default_parameters_are_owasps_argon2id() {
        let h = PasswordHasher::new(
            Argon2Params {
                m_cost_kib: 9_216,
                t_cost: 4,
                p_cost: 1,
            },
            1,
            1,
        )
        .expect("params");
        assert!(
            h.dummy_hash.starts_with("$argon2id$v=19$m=9216,t=4,p=1$"),
            "{}",
            h.dummy_hash
        );
    }
}
