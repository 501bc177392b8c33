//! Password hashing with argon2id, always off the async runtime, on a bounded
//! pool: at most `hash_concurrency` hashes run at once and at most `hash_queue`
//! wait, so a sign-in flood queues (then gets 503) instead of starving the rest.
//!
//! The hashes run on a fixed set of `hash_concurrency` threads of our own, not
//! on tokio's blocking pool: each argon2id hash allocates its 19 MiB of memory
//! blocks, and the allocator keeps freed memory per thread, so spreading hashes
//! over tokio's many blocking threads grows the process by 19 MiB per thread
//! ever used (540 MiB in the benchmark); a fixed pool bounds it to one block per worker.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    mpsc, Arc, Mutex,
};

use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use super::config::Argon2Params;
use crate::error::AuthError;

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    workers: mpsc::Sender<Job>,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
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
        let dummy_hash =
            hash_with(&argon, &random_password()).map_err(|()| "argon2 failed".to_owned())?;
        Ok(Self {
            argon,
            workers: spawn_workers(concurrency)?,
            slots: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
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
        self.run(move || {
            hash_with(&argon, password.expose_secret()).map_err(|()| AuthError::Internal)
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
        let argon = self.argon.clone();
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .run(move || {
                PasswordHash::new(&phc).is_ok_and(|parsed| {
                    argon
                        .verify_password(password.expose_secret().as_bytes(), &parsed)
                        .is_ok()
                })
            })
            .await?;
        Ok(known && ok)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _guard = WaitingGuard(&self.waiting);
        if queued >= self.capacity {
            return Err(AuthError::Busy);
        }
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Internal)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.workers
            .send(Box::new(move || {
                let _ = tx.send(work());
            }))
            .map_err(|_| AuthError::Internal)?;
        let out = rx.await.map_err(|_| AuthError::Internal);
        drop(permit);
        out
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` hashing threads that take jobs from one queue.
fn spawn_workers(count: usize) -> Result<mpsc::Sender<Job>, String> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..count.max(1) {
        let rx = Arc::clone(&rx);
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || loop {
                let job = match rx.lock() {
                    Ok(queue) => queue.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    // Every sender is gone: the hasher was dropped.
                    Err(_) => return,
                }
            })
            .map_err(|e| format!("cannot start a hashing thread: {e}"))?;
    }
    Ok(tx)
}

struct WaitingGuard<'a>(&'a AtomicUsize);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn hash_with(argon: &Argon2<'_>, password: &str) -> Result<String, ()> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| ())?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| ())?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ())
}

fn random_password() -> String {
    let mut bytes = [0u8; 24];
    // If the OS RNG fails the dummy still works: its only job is to cost the same time.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn an_unknown_user_never_verifies_even_with_the_dummy_password() {
        let h = cheap();
        assert!(!h
            .verify(SecretString::from("anything"), None)
            .await
            .expect("verify"));
    }

    #[test]
    fn the_default_parameters_are_owasps_argon2id() {
        let h = PasswordHasher::new(
            Argon2Params {
                m_cost_kib: 19_456,
                t_cost: 2,
                p_cost: 1,
            },
            1,
            1,
        )
        .expect("params");
        assert!(
            h.dummy_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            h.dummy_hash
        );
    }
}
